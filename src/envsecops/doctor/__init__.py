"""`envsecops doctor`: check the GitHub settings of a repository or an org that the gate needs."""
