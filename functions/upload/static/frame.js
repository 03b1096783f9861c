// A cover picture taken from a video in the browser, as the convert function takes it from an
// uploaded video: the frame about 10% in, fitted within 1400 px, as a JPEG. The browser decodes
// the video through a <video> element (it reads the file in ranges, never whole) and a canvas.

const POSITION = 0.1; // of the duration: past titles and fades, still the same scene
const MAX_SIDE = 1400;
const QUALITY = 0.9;
const TIMEOUT_MS = 30_000;

function waitFor(element, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} from the video`)), TIMEOUT_MS);
    const done = (callback) => (value) => {
      clearTimeout(timer);
      element.removeEventListener(event, ok);
      element.removeEventListener("error", bad);
      callback(value);
    };
    const ok = done(resolve);
    const bad = done(() => reject(new Error("the browser cannot play this video")));
    element.addEventListener(event, ok);
    element.addEventListener("error", bad);
  });
}

// Resolves with a JPEG Blob, or rejects when the browser cannot decode a frame of `file`.
export async function coverFrame(file) {
  const url = URL.createObjectURL(file);
  const video = document.createElement("video");
  video.muted = true;
  video.preload = "auto";
  try {
    const metadata = waitFor(video, "loadedmetadata");
    video.src = url;
    await metadata;
    if (!video.videoWidth || !Number.isFinite(video.duration)) {
      throw new Error("the browser cannot show this video's pictures");
    }
    const seeked = waitFor(video, "seeked");
    video.currentTime = Math.round(video.duration * POSITION * 1000) / 1000;
    await seeked;
    const scale = Math.min(1, MAX_SIDE / video.videoWidth, MAX_SIDE / video.videoHeight);
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(video.videoWidth * scale));
    canvas.height = Math.max(1, Math.round(video.videoHeight * scale));
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    const jpeg = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
    if (!jpeg) throw new Error("the frame could not be saved as a picture");
    return jpeg;
  } finally {
    video.removeAttribute("src");
    video.load(); // lets the browser drop its decoder and the file's buffered ranges now
    URL.revokeObjectURL(url);
  }
}
