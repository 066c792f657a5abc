/* bench/bench_orb.c - placeholder until implemented. */
int main(void) { return 77; }
