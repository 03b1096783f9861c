"""The upload function's capability: streaming uploads, jobs, status, downloads, the web page."""
