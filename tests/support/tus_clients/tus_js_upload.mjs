// Upload a file with tus-js-client, the official JavaScript tus client, unmodified, under Node.
//
//   node tus_js_upload.mjs ENDPOINT TOKEN FILE CHUNK_SIZE [UPLOAD_URL] [key=value ...]
//
// Prints `URL <upload url>` once the upload exists, `OFFSET <n>` as bytes are acknowledged and
// `DONE` at the end (or `ERROR <message>` and exit 1), so a test can kill it part-way and resume
// with a new process given the same upload URL.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

// tus-js-client from the project's node_modules (scripts/install.sh), wherever this runs from.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const tus = createRequire(path.join(root, "package.json"))("tus-js-client");

const [endpoint, token, file, chunkSize, ...rest] = process.argv.slice(2);
const uploadUrl = rest.length && rest[0].startsWith("http") ? rest.shift() : null;
const metadata = Object.fromEntries(rest.map((item) => item.split(/=(.*)/s).slice(0, 2)));

const upload = new tus.Upload(fs.readFileSync(file), {
  endpoint,
  uploadUrl,
  chunkSize: Number(chunkSize),
  metadata,
  headers: { Authorization: `Bearer ${token}` },
  retryDelays: [],
  onUploadUrlAvailable: () => console.log(`URL ${upload.url}`),
  onChunkComplete: (_size, accepted) => console.log(`OFFSET ${accepted}`),
  onSuccess: () => console.log("DONE"),
  onError: (error) => {
    console.log(`ERROR ${String(error.message).split("\n")[0]}`);
    process.exitCode = 1;
  },
});
upload.start();
