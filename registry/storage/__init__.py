"""Where version files live and the temporary credentials clients get for them (file: and S3
roots; Azure and GCS are designed on the same interface in docs/storage.md)."""
