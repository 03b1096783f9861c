// Sending an upload form to POST /upload with the token, reporting the bytes sent as they go.

// Resolves with { status, body } (body: the parsed JSON answer, or {}), or rejects when the
// connection fails. Calls onProgress(sent, total) while the form goes up.
export function postForm(form, bearer, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/upload");
    xhr.setRequestHeader("Authorization", `Bearer ${bearer}`);
    xhr.upload.onprogress = (progress) => {
      if (progress.lengthComputable) onProgress(progress.loaded, progress.total);
    };
    xhr.onerror = () => reject(new Error("interrupted"));
    xhr.onload = () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText || "{}");
      } catch {
        body = {};
      }
      resolve({ status: xhr.status, body });
    };
    xhr.send(form);
  });
}
