// The Node-only entry (`recurrent/node`): files and processes.
export {};
