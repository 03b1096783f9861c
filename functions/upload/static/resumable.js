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

// Upload `file` with `fields` (format, bitrate); calls onProgress(sent, total), then resolves
// with the job id (the last part of the upload's URL) or rejects with { status, message }.
export function uploadResumable(file, fields, bearer, onProgress) {
  return new Promise((resolve, reject) => {
    const upload = new window.tus.Upload(file, {
      endpoint: "/files/",
      chunkSize: CHUNK_BYTES,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      metadata: { filename: file.name, ...fields },
      headers: { Authorization: `Bearer ${bearer}` },
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onProgress,
      onSuccess: () => resolve(upload.url.split("/").pop()),
      onError: (error) => {
        const response = error.originalResponse;
        const status = response ? response.getStatus() : 0;
        let message = "";
        try {
          message = JSON.parse(response.getBody() || "{}").error || "";
        } catch {
          message = "";
        }
        reject({ status, message });
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
