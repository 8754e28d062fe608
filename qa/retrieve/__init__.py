"""Retrieve: what a question needs beside the store's two legs to find its passages: token
alignment, English words translated, document filters, folding of near-duplicates, a reranker."""
