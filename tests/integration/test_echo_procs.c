/* tests/integration/test_echo_procs.c - placeholder until implemented. */
int main(void) { return 77; }
