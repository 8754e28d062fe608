"""Answer: the sentence of a hit that answers the question, and how sure qa is that it does."""
