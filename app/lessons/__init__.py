"""The teaching demos: gate traces, gradient norms, the recall task, how far back the LSTM reads, coloured text."""
