"""HTTP and CloudEvent plumbing shared by the functions: routing, errors, files, downloads."""
