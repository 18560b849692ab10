import DigestCore
