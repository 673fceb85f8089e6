output "footfall" {
  description = "Every output of the module, for the tests to compare with what the emulator holds."
  value       = module.footfall
}
