"""What a person reads: plain-text renderings of status, explanations, the segment matrix and task text."""
