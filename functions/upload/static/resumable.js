// Resumable uploads (tus 1.0.0 at /files/) for large files, with tus-js-client's browser build
// (/static/vendor/tus.min.js, copied from the npm package by scripts/install.sh; no CDN).
// The upload's URL is remembered in localStorage under the file's fingerprint (name, type, size,
// modification time), so choosing the same file again after a reload or a dropped connection
// continues where the stored bytes end instead of starting over.

// Each PATCH stays well inside a request's time limit in front of the function.
const CHUNK_BYTES = 16 * 1024 * 1024;

export function resumableSupported() {
  return Boolean(window.tus && window.tus.isSupported);
}

function errorOf(status, body) {
  try {
    return { status, message: JSON.parse(body || "{}").error || "" };
  } catch {
    return { status, message: "" };
  }
}

// Upload `file` with `fields` (format, bitrate, the publishing options) as its metadata, and
// `coverImage` (a File, or null) with PUT /files/{id}/cover before the first PATCH; calls
// onProgress(sent, total), then resolves with the job id (the last part of the upload's URL) or
// rejects with { status, message }.
export function uploadResumable(file, fields, bearer, onProgress, coverImage = null) {
  return new Promise((resolve, reject) => {
    let coverSent = !coverImage;
    let coverError = null;
    const attachCover = async (request) => {
      if (coverSent || request.getMethod() !== "PATCH") return;
      const answer = await fetch(`${upload.url}/cover`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${bearer}`, "Content-Type": coverImage.type },
        body: coverImage,
      });
      if (answer.status !== 204) {
        coverError = errorOf(answer.status, await answer.text());
        throw new Error(coverError.message);
      }
      coverSent = true;
    };
    const upload = new window.tus.Upload(file, {
      endpoint: "/files/",
      chunkSize: CHUNK_BYTES,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      metadata: { filename: file.name, ...fields },
      headers: { Authorization: `Bearer ${bearer}` },
      onBeforeRequest: attachCover,
      onShouldRetry: (error, attempt, options) =>
        !coverError && window.tus.defaultOptions.onShouldRetry(error, attempt, options),
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onProgress,
      onSuccess: () => resolve(upload.url.split("/").pop()),
      onError: (error) => {
        const response = error.originalResponse;
        if (coverError) reject(coverError);
        else if (!response) reject({ status: 0, message: "" });
        else reject(errorOf(response.getStatus(), response.getBody()));
      },
    });
    upload
      .findPreviousUploads()
      .then((previous) => {
        if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      })
      .catch(() => upload.start());
  });
}
