/* tests/unit/test_ior.c - placeholder until implemented. */
int main(void) { return 77; }
