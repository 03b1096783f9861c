// What the page uploads for a chosen file. From an MP4 or MOV only the sound goes (taken out here,
// without re-encoding), with the cover picture taken from the video when one is wanted, so the
// result is the one the whole video would give; everything else goes whole. The note says which,
// in words a person understands.
import { formatBytes } from "./session.js";
import { ExtractionError, extractSound, isIsoMedia } from "./extract.js";
import { coverFrame } from "./frame.js";

// Formats the convert function embeds a cover in.
export const FORMATS_WITH_COVER = new Set(["mp3", "m4a", "flac", "opus"]);

// Raised when the video has no sound at all: nothing is uploaded.
export class NoSound extends Error {}

function asItIs(file, note) {
  return { payload: file, cover: null, note };
}

function whole(file, why) {
  return asItIs(file, `The whole video is uploaded (${formatBytes(file.size)}): ${why}.`);
}

// Resolves with { payload: File, cover: Blob | null, note }; rejects with NoSound.
// `wantCover`: the cover is a frame of the video; onProgress(read, total) while reading the file.
export async function prepareUpload(file, { wholeVideo, wantCover, onProgress }) {
  if (wholeVideo) return whole(file, "you chose to send it");
  if (!(await isIsoMedia(file))) {
    const size = formatBytes(file.size);
    return asItIs(
      file,
      `The whole file is uploaded (${size}): the sound is taken out here only from MP4 and MOV videos.`,
    );
  }
  let extracted;
  try {
    extracted = await extractSound(file, onProgress);
  } catch (error) {
    if (error instanceof ExtractionError && error.noSound) {
      throw new NoSound(
        "This video has no sound track, so there is nothing to convert. Nothing was uploaded.",
      );
    }
    return whole(file, error instanceof ExtractionError ? error.message : "the file could not be read here");
  }
  const { sound, hasVideo } = extracted;
  if (!hasVideo) {
    return asItIs(file, `The file is uploaded as it is (${formatBytes(file.size)}): it holds only sound.`);
  }
  let cover = null;
  if (wantCover) {
    try {
      cover = await coverFrame(file);
    } catch (error) {
      const why = `the cover picture could not be taken from it here (${error.message}); with`;
      return whole(file, `${why} "Cover art: None" only the sound would be`);
    }
  }
  const note = `Only the sound is uploaded: ${formatBytes(sound.size)} instead of ${formatBytes(file.size)}.`;
  return { payload: sound, cover, note };
}
