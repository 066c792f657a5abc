/* tests/unit/test_typecode.c - placeholder until implemented. */
int main(void) { return 77; }
