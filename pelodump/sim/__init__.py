"""A simulated Peloton API and Auth0 login, for tests and the zero-setup demo."""
