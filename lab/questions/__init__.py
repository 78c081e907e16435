"""One module per coursework question; each writes results/<question>/<run>/ and a `latest` link."""
