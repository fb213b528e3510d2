/** The scale harness runs JSONata state machines with the one local runner, test/support/jsonata.ts. */
export * from '../jsonata';
