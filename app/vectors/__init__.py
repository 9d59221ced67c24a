"""Word vectors: KeyedVectors-style verbs (most_similar, analogy…), word2vec and GloVe, projections."""
