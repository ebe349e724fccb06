// Builds the IIFE (for a <script> tag, global `Personalizer`) and the ES module, copies the type
// declarations, and fails when the IIFE grows past 5 KB gzipped.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const LIMIT = 5 * 1024;
const common = { entryPoints: ["src/personalizer.js"], bundle: true, minify: true, target: "es2019", legalComments: "none" };
mkdirSync("dist", { recursive: true });
await build({ ...common, format: "iife", globalName: "Personalizer", footer: { js: "Personalizer=Personalizer.default;" }, outfile: "dist/personalizer.js" });
await build({ ...common, format: "esm", outfile: "dist/personalizer.mjs" });
copyFileSync("src/personalizer.d.ts", "dist/personalizer.d.ts");
const version = JSON.parse(readFileSync("package.json", "utf8")).version;
writeFileSync("dist/version.txt", version + "\n");
const size = gzipSync(readFileSync("dist/personalizer.js"), { level: 9 }).length;
console.log(`dist/personalizer.js: ${size} bytes gzipped (limit ${LIMIT}), version ${version}`);
if (size > LIMIT) {
  console.error(`The snippet is ${size - LIMIT} bytes over its ${LIMIT}-byte gzipped budget.`);
  process.exit(1);
}
