/* tests/unit/test_error_log.c - placeholder until implemented. */
int main(void) { return 77; }
