#!/usr/bin/env node
// A tiny static server for the playground, on 127.0.0.1 only. It serves web/ (index.html, styles.css,
// dist/) at the root and the shipped series at /datasets/, with the headers that make the page
// cross-origin isolated (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy:
// require-corp), which SharedArrayBuffer between the page and its workers needs.
//
//   node scripts/serve-web.mjs            port from $PORT, else 5173 (0: any free port)
//
// It prints `serving http://127.0.0.1:<port>/` once listening; build first (scripts/build-web.mjs).

import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".wasm": "application/wasm",
  ".safetensors": "application/octet-stream",
  ".ico": "image/x-icon",
};

const HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
};

/** URL path -> file, or null: /datasets/* from datasets/, everything else from web/. */
function resolvePath(urlPath) {
  let p;
  try {
    p = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (p.includes("\0")) return null;
  const [base, rest] = p.startsWith("/datasets/")
    ? [join(ROOT, "datasets"), p.slice("/datasets/".length)]
    : [join(ROOT, "web"), p];
  const file = normalize(join(base, rest));
  if (file !== base && !file.startsWith(base + sep)) return null; // no escaping the folder
  if (existsSync(file) && statSync(file).isDirectory()) return join(file, "index.html");
  return file;
}

/** Starts the server; resolves with its URL and a close function. */
export function startServer({
  port = Number(process.env.PORT ?? 5173),
  host = "127.0.0.1",
  log = () => {},
} = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (code, text) => {
      res.writeHead(code, { ...HEADERS, "Content-Type": "text/plain; charset=utf-8" });
      res.end(`${text}\n`);
      log(`${code} ${req.method} ${url.pathname}`);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed");
    const file = resolvePath(url.pathname);
    if (file === null) return send(400, "bad path");
    if (!existsSync(file) || !statSync(file).isFile()) {
      const hint = url.pathname.startsWith("/dist/")
        ? " (build the page first: node scripts/build-web.mjs)"
        : "";
      return send(404, `not found: ${url.pathname}${hint}`);
    }
    res.writeHead(200, {
      ...HEADERS,
      "Content-Type": TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
      "Content-Length": statSync(file).size,
    });
    log(`200 ${req.method} ${url.pathname}`);
    if (req.method === "HEAD") return res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({
        url: `http://${host}:${addr.port}/`,
        port: addr.port,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const portText = process.env.PORT ?? "5173";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`serve-web: PORT must be an integer in 0..65535, got ${JSON.stringify(portText)}\n`);
    process.exit(2);
  }
  if (!existsSync(join(ROOT, "web", "dist", "main.js"))) {
    process.stderr.write("serve-web: web/dist/main.js is missing; build first: node scripts/build-web.mjs\n");
  }
  try {
    const s = await startServer({
      port,
      log: process.env.QUIET ? () => {} : (l) => process.stderr.write(`${l}\n`),
    });
    process.stdout.write(`serving ${s.url}\n`);
    const stop = () => s.close().then(() => process.exit(0));
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  } catch (e) {
    const code = e && typeof e === "object" && "code" in e ? e.code : "";
    process.stderr.write(
      code === "EADDRINUSE"
        ? `serve-web: port ${port} is in use; set PORT to another (PORT=0 picks a free one)\n`
        : `serve-web: ${e instanceof Error ? e.message : String(e)}\n`,
    );
    process.exit(1);
  }
}
