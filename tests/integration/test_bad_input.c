/* tests/integration/test_bad_input.c - placeholder until implemented. */
int main(void) { return 77; }
