// Loads a running node's Swagger UI ($BASE/docs) in headless Debian
// chromium and fails unless the page renders every operation of the node's
// /openapi.json with nothing going wrong on the way:
//
//   - no failed request (network error, blocked, aborted);
//   - no response with status >= 400;
//   - no request leaving the node's origin (the UI is vendored and must work
//     offline);
//   - no console error and no uncaught page exception;
//   - no spec error shown by Swagger UI itself;
//   - one rendered operation (.opblock) per operation in /openapi.json.
//
// Environment:
//   BASE                node origin, e.g. http://127.0.0.1:8080 (required)
//   SAGE_CHROMIUM       the chromium binary (scripts/ensure-api-tools.sh
//                       prints it; default /usr/bin/chromium)
//   SWAGGER_TIMEOUT_MS  how long the page gets to render (default 20000)
//
// Exits 0 and prints a one-line summary when the page is clean; otherwise
// prints every problem and exits 1 (2 on a usage error).
import puppeteer from "puppeteer-core";

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

function usage(message) {
  console.error(`swagger-check: ${message}`);
  process.exit(2);
}

const base = (process.env.BASE ?? "").replace(/\/+$/, "");
if (!/^https?:\/\//.test(base)) {
  usage("set BASE to the node's origin, e.g. BASE=http://127.0.0.1:8080");
}
const executablePath = process.env.SAGE_CHROMIUM || "/usr/bin/chromium";
const timeout = Number.parseInt(process.env.SWAGGER_TIMEOUT_MS ?? "20000", 10);
if (!Number.isFinite(timeout) || timeout <= 0) {
  usage("SWAGGER_TIMEOUT_MS must be a positive number of milliseconds");
}
const origin = new URL(base).origin;

// The operations the UI has to show, from the same document it renders.
async function countOperations() {
  const response = await fetch(`${base}/openapi.json`);
  if (!response.ok) {
    throw new Error(`GET /openapi.json answered ${response.status}`);
  }
  const spec = await response.json();
  let count = 0;
  for (const item of Object.values(spec.paths ?? {})) {
    count += Object.keys(item ?? {}).filter((key) => HTTP_METHODS.has(key)).length;
  }
  return count;
}

const problems = [];
let requests = 0;
let rendered = 0;
let expected;
try {
  expected = await countOperations();
} catch (error) {
  problems.push(`cannot read ${base}/openapi.json: ${error.message}`);
}

const browser = await puppeteer.launch({
  executablePath,
  headless: true,
  // CI runs as root, where chromium's sandbox cannot start.
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(timeout);
  page.on("request", (request) => {
    requests += 1;
    const url = request.url();
    if (/^https?:/.test(url) && new URL(url).origin !== origin) {
      problems.push(`request leaves the node (the UI must work offline): ${request.method()} ${url}`);
    }
  });
  page.on("requestfailed", (request) => {
    problems.push(
      `request failed: ${request.method()} ${request.url()}: ${request.failure()?.errorText ?? "unknown error"}`,
    );
  });
  page.on("response", (response) => {
    if (response.status() >= 400) {
      problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
    }
  });
  page.on("console", (message) => {
    if (message.type() === "error") {
      const where = message.location()?.url ? ` (${message.location().url})` : "";
      problems.push(`console error: ${message.text()}${where}`);
    }
  });
  page.on("pageerror", (error) => {
    problems.push(`uncaught exception: ${error.message}`);
  });

  const response = await page.goto(`${base}/docs`, { waitUntil: "networkidle0", timeout });
  if (response === null || !response.ok()) {
    problems.push(`GET /docs answered ${response === null ? "nothing" : response.status()}`);
  }
  try {
    await page.waitForSelector(".swagger-ui .opblock", { timeout });
    // Swagger UI renders tag sections one after the other: wait until the
    // count stops growing before comparing it with the document.
    await page.waitForNetworkIdle({ idleTime: 500, timeout });
    rendered = await page.$$eval(".swagger-ui .opblock", (blocks) => blocks.length);
  } catch (error) {
    problems.push(`no operation rendered within ${timeout} ms (.swagger-ui .opblock): ${error.message}`);
  }
  const specErrors = await page.$$eval(".swagger-ui .errors-wrapper .error-wrapper", (errors) =>
    errors.map((error) => error.textContent.trim().replace(/\s+/g, " ")),
  );
  for (const text of specErrors) {
    problems.push(`Swagger UI reports a spec error: ${text}`);
  }
  if (expected !== undefined && rendered !== 0 && rendered !== expected) {
    problems.push(`Swagger UI rendered ${rendered} operations, /openapi.json has ${expected}`);
  }
} finally {
  await browser.close();
}

if (problems.length > 0) {
  console.error(`swagger-check: ${base}/docs: ${problems.length} problem(s)`);
  for (const problem of problems) {
    console.error(`  - ${problem}`);
  }
  process.exit(1);
}
console.log(
  `swagger-check: ${base}/docs rendered ${rendered} operations (${expected} in /openapi.json), ` +
    `${requests} requests, none failed, no console error`,
);
