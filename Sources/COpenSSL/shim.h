#ifndef DAILYDIGEST_COPENSSL_SHIM_H
#define DAILYDIGEST_COPENSSL_SHIM_H

/*
 * The system's OpenSSL libcrypto (3.x), for RSA-SHA256 DKIM signatures and the HMAC-SHA256 of link
 * tokens: the library libcurl4-openssl already loads into the process. Only these headers; everything is
 * called from one Swift file, Sources/DigestCore/Support/OpenSSL.swift.
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#endif
