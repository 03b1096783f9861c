// Run the web page's own sound extraction (functions/upload/static/extract.js) under Node, on a
// file-backed Blob as the browser has for a chosen file.
//
//   node extract_sound.mjs INPUT OUTPUT
//
// Writes the audio-only MP4 to OUTPUT and prints {"hasVideo": ..., "size": ..., "read": ...}
// (read: the bytes of INPUT the extraction read), or prints {"error": ..., "noSound": ...} and
// exits 1.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const page = path.join(root, "functions/upload/static/extract.js");
const { extractSound } = await import(pathToFileURL(page).href);

const [input, output] = process.argv.slice(2);
const blob = await fs.openAsBlob(input);
const file = new File([blob], path.basename(input), { lastModified: 0 });
let read = 0;
try {
  const { sound, hasVideo } = await extractSound(file, (done) => {
    read = done;
  });
  fs.writeFileSync(output, Buffer.from(await sound.arrayBuffer()));
  console.log(JSON.stringify({ hasVideo, size: sound.size, read }));
} catch (error) {
  console.log(JSON.stringify({ error: error.message, noSound: Boolean(error.noSound) }));
  process.exit(1);
}
