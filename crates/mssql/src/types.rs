//! SQL Server types and the neutral model (skeleton).
