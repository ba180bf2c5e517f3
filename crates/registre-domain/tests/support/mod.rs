pub mod law;
