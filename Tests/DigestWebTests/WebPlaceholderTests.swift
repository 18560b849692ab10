import Testing
import DigestWeb

@Suite struct WebPlaceholderTests {}
