/* tests/integration/harness.h - placeholder until implemented. */
