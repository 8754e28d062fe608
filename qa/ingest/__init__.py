"""Read and split: a folder walked safely, each file's text extracted by its format, the
matching form of a text, and the passages and sentences a document is indexed as."""
