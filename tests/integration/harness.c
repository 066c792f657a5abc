/* tests/integration/harness.c - placeholder until implemented. */
