// Taking the sound track out of an MP4 or MOV in the browser, without re-encoding, with mp4box.js
// (/static/vendor/mp4box/, copied from the npm package by scripts/install.sh; no CDN).
//
// The file is only ever read in slices (File.slice), so memory stays bounded whatever its size.
// mp4box parses the index (moov), fed from the start; when the index is at the end, mp4box names
// the position after the media data and the reading jumps there. The audio-only MP4 is that index
// cut down to the sound track, its chunk offsets rewritten for a media box (mdat) that holds the
// sound's chunks back to back, copied out of the file. The sample tables stay as they are, edit
// list (the encoder's priming) included, so it decodes to exactly the samples the video's sound
// does. (A fragmented MP4, as mp4box's segmenter writes, would lose the edit list in ffmpeg.)
import { BoxParser, DataStream, Log, createFile } from "./vendor/mp4box/mp4box.all.mjs";

const INDEX_READ_BYTES = 1024 * 1024;
const WINDOW_BYTES = 16 * 1024 * 1024; // the most of the file read at once
const SPAN_GAP = 256 * 1024;
const BLOB_BYTES = 32 * 1024 * 1024;
const MAX_UINT32 = 2 ** 32 - 1;
const MAX_VERSION0_SAMPLE_RATE = 65535; // a version-0 audio sample entry holds it in 16 bits
// Sound that ffmpeg reads from an MP4 and that mp4box writes back faithfully, by sample entry.
// Others (QuickTime PCM, whose sample tables count bytes, not frames) go up as the whole video.
const SOUND_ENTRIES = new Set(["mp4a", "alac", "Opus", "fLaC", "ac-3", "ec-3", ".mp3", "ipcm"]);
const TRACK_BOXES = new Set(["tkhd", "edts", "mdia"]); // a track's own udta/meta are not needed
// The boxes an ISO base media file (MP4, MOV, M4A, 3GP) may start with.
const ISO_FIRST_BOXES = new Set(["ftyp", "moov", "mdat", "wide", "free", "skip", "pnot"]);

Log.setLogLevel(Log.error);

// Why the sound could not be taken out; `noSound` when the file has no sound track at all.
export class ExtractionError extends Error {
  constructor(message, { noSound = false } = {}) {
    super(message);
    this.noSound = noSound;
  }
}

async function read(file, start, end) {
  const buffer = await file.slice(start, end).arrayBuffer();
  buffer.fileStart = start; // where mp4box places the slice in the file
  return buffer;
}

// Whether `file` is an ISO base media file (judged by its first bytes, not by its name).
export async function isIsoMedia(file) {
  if (file.size < 8) return false;
  const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  return ISO_FIRST_BOXES.has(String.fromCharCode(...head.subarray(4, 8)));
}

// Feeds mp4box from the start, jumping where it asks, until it has parsed the index.
async function readIndex(file, mp4) {
  let info = null;
  let failure = "";
  mp4.onReady = (movie) => {
    info = movie;
  };
  mp4.onError = (module, message) => {
    failure = message || String(module);
  };
  let position = 0;
  while (!info) {
    if (position >= file.size) throw new ExtractionError("no MP4 index (moov) was found");
    const end = Math.min(file.size, position + INDEX_READ_BYTES);
    const next = mp4.appendBuffer(await read(file, position, end));
    if (failure) throw new ExtractionError(`the MP4 could not be read (${failure})`);
    if (info) break;
    if (!(next > position)) throw new ExtractionError("the MP4 could not be read");
    position = next;
  }
  return info;
}

// The first sound track, as the convert function takes the first audio stream (by its handler:
// mp4box lists a sound it does not know, QuickTime PCM for one, as "other").
function soundTrack(mp4) {
  const trak = mp4.moov.traks.find((box) => box.mdia && box.mdia.hdlr.handler === "soun");
  if (!trak) throw new ExtractionError("this video has no sound track", { noSound: true });
  const entries = trak.mdia.minf.stbl.stsd.entries;
  const types = [...new Set(entries.map((entry) => entry.type))];
  if (!types.every((type) => SOUND_ENTRIES.has(type))) {
    throw new ExtractionError(`its sound (${types.join(", ")}) cannot be taken out here`);
  }
  if (entries.some((entry) => entry.samplerate > MAX_VERSION0_SAMPLE_RATE)) {
    throw new ExtractionError("its sound's sample rate is too high to be taken out here");
  }
  // A fragmented MP4 lists its samples in boxes (moof) all over the file, not in the index.
  if (mp4.moov.mvex || !trak.samples.length) {
    throw new ExtractionError("its sound is in fragments, which the page does not take apart");
  }
  return trak;
}

// Each chunk's byte range in the file, in chunk order (the samples of a chunk are contiguous).
function chunkRanges(samples, fileSize) {
  const ranges = [];
  for (const sample of samples) {
    const index = sample.chunk_index - 1;
    const end = sample.offset + sample.size;
    ranges[index] ??= { start: sample.offset, end: sample.offset };
    if (sample.offset !== ranges[index].end) throw new ExtractionError("its index is inconsistent");
    ranges[index].end = end;
  }
  let previousEnd = 0;
  for (const range of ranges) {
    if (!range || range.start < previousEnd || range.end > fileSize) {
      // Out of order or outside the file: read in one pass, the copy would be wrong.
      throw new ExtractionError("its sound is not stored in order");
    }
    previousEnd = range.end;
  }
  return ranges;
}

// QuickTime keeps an AAC's decoder configuration inside a 'wave' box; MP4 has it in the entry.
function plainSampleEntries(trak) {
  for (const entry of trak.mdia.minf.stbl.stsd.entries) {
    const esds = entry.wave && entry.wave.esds;
    if (entry.type !== "mp4a" || entry.esds || !esds) continue;
    entry.boxes = [...(entry.boxes || []).filter((box) => box.type !== "wave"), esds];
    entry.esds = esds;
    entry.wave = undefined;
  }
}

// ftyp, a moov with only `trak` whose chunks start at `offsets` (plus where the data starts),
// and the mdat header for `dataBytes` bytes.
function writeHead(mp4, trak, offsets, dataBytes) {
  const stbl = trak.mdia.minf.stbl;
  const stco = new BoxParser.box.stco();
  stbl.boxes = [...stbl.boxes.filter((box) => box.type !== "stco" && box.type !== "co64"), stco];
  stbl.co64 = undefined;
  stbl.stco = stco;
  const moov = new BoxParser.box.moov();
  moov.addBox(mp4.moov.mvhd);
  moov.addBox(trak);
  const mdatHeader = dataBytes + 8 > MAX_UINT32 ? 16 : 8;
  let base = 0;
  for (;;) {
    stco.chunk_offsets = offsets.map((offset) => offset + base);
    const stream = new DataStream();
    if (mp4.ftyp) mp4.ftyp.write(stream);
    moov.write(stream);
    const dataStart = stream.getPosition() + mdatHeader;
    if (dataStart === base) {
      if (mdatHeader === 16) {
        stream.writeUint32(1);
        stream.writeString("mdat", undefined, 4);
        stream.writeUint64(dataBytes + 16);
      } else {
        stream.writeUint32(dataBytes + 8);
        stream.writeString("mdat", undefined, 4);
      }
      return { head: stream.buffer, dataStart };
    }
    base = dataStart; // the stco's size does not depend on the values: a second pass settles it
    if (base + dataBytes > MAX_UINT32) throw new ExtractionError("its sound is over 4 GB");
  }
}

// Reads the written head back and checks each sample lands where the original's bytes will be.
async function checkHead(head, samples, ranges, offsets, dataStart) {
  const copy = createFile();
  let info = null;
  copy.onReady = (movie) => {
    info = movie;
  };
  const buffer = head.slice(0);
  buffer.fileStart = 0;
  copy.appendBuffer(buffer);
  const written = info && info.tracks.length === 1 ? copy.getTrackSamplesInfo(info.tracks[0].id) : [];
  const same =
    written.length === samples.length &&
    written.every((sample, i) => {
      const original = samples[i];
      const chunk = original.chunk_index - 1;
      const expected = dataStart + offsets[chunk] + original.offset - ranges[chunk].start;
      return sample.size === original.size && sample.offset === expected;
    });
  if (!same) throw new ExtractionError("the sound's index could not be rewritten");
}

// Spans of the file to read: chunk ranges closer than SPAN_GAP are read together (one read
// costs more than skipping a few kilobytes of video), each span in windows of WINDOW_BYTES.
function spans(ranges) {
  const found = [];
  for (const range of ranges) {
    const last = found[found.length - 1];
    if (last && range.start - last.end <= SPAN_GAP) last.end = range.end;
    else found.push({ start: range.start, end: range.end });
  }
  return found;
}

// The sound's chunks, copied out of the file window by window, in order. What has been copied is
// handed to a Blob every BLOB_BYTES (the browser keeps blobs outside the page's heap, on disk if
// need be), so the page holds at most one window and BLOB_BYTES of sound at any time.
async function copySound(file, ranges, dataBytes, onProgress) {
  const blobs = [];
  let pending = [];
  let pendingBytes = 0;
  const toRead = spans(ranges);
  const total = toRead.reduce((sum, span) => sum + span.end - span.start, 0);
  let read = 0;
  let next = 0; // the first chunk not yet copied whole
  for (const span of toRead) {
    for (let start = span.start; start < span.end; start += WINDOW_BYTES) {
      const end = Math.min(span.end, start + WINDOW_BYTES);
      const window = new Uint8Array(await file.slice(start, end).arrayBuffer());
      while (next < ranges.length && ranges[next].start < end) {
        const range = ranges[next];
        const from = Math.max(range.start, start);
        const to = Math.min(range.end, end);
        pending.push(window.slice(from - start, to - start));
        pendingBytes += to - from;
        if (range.end > end) break; // the rest of this chunk is in the next window
        next += 1;
      }
      read += end - start;
      onProgress(read, total);
      if (pendingBytes >= BLOB_BYTES) {
        blobs.push(new Blob(pending));
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  const parts = [...blobs, new Blob(pending)];
  const copied = parts.reduce((sum, blob) => sum + blob.size, 0);
  if (next !== ranges.length || copied !== dataBytes) {
    throw new ExtractionError("its sound could not be read whole");
  }
  return parts;
}

// The sound of `file` (an MP4 or MOV) as an audio-only MP4 named like the file, so the job and
// the title keep the video's name. Calls onProgress(read, total) as it reads the file. Resolves
// with { sound: File, hasVideo }, or rejects with an ExtractionError.
export async function extractSound(file, onProgress = () => {}) {
  const mp4 = createFile(); // media data is skipped, never kept
  const info = await readIndex(file, mp4);
  const trak = soundTrack(mp4);
  const samples = trak.samples;
  const ranges = chunkRanges(samples, file.size);
  const offsets = [];
  let dataBytes = 0;
  for (const range of ranges) {
    offsets.push(dataBytes);
    dataBytes += range.end - range.start;
  }
  trak.boxes = trak.boxes.filter((box) => TRACK_BOXES.has(box.type));
  mp4.moov.mvhd.duration = trak.tkhd.duration; // the movie lasts as long as its one track
  plainSampleEntries(trak);
  let written;
  try {
    written = writeHead(mp4, trak, offsets, dataBytes);
  } catch (error) {
    if (error instanceof ExtractionError) throw error;
    throw new ExtractionError(`its sound's index could not be written (${error.message || error})`);
  }
  await checkHead(written.head, samples, ranges, offsets, written.dataStart);
  const parts = [written.head, ...(await copySound(file, ranges, dataBytes, onProgress))];
  const sound = new File(parts, file.name, { type: "audio/mp4", lastModified: file.lastModified });
  return { sound, hasVideo: info.videoTracks.length > 0 };
}
