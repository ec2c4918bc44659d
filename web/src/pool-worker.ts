// A kernel pool worker of the playground: started by the training worker (worker.ts) through
// startWebThreads, it runs the parts of large kernel calls the pool hands it (src/kernels/web-threads.ts).
import { serveWebPool } from "./lib.js";

serveWebPool();
