"""Language models: the character LSTM, the word LSTM started from skip-gram, and the Kneser-Ney n-gram baseline."""
