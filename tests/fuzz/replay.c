/* tests/fuzz/replay.c - placeholder until implemented. */
int main(void) { return 77; }
