"""Text in: the corpora (readers, normalisation, tokens, the split), checks on uploads, the fashion lexicon."""
