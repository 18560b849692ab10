#ifndef DAILYDIGEST_CCURL_SHIM_H
#define DAILYDIGEST_CCURL_SHIM_H

#include <curl/curl.h>

/*
 * curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call.
 * These typed wrappers pass each argument kind through unchanged.
 * "curl_easy_setopt(CURL *handle, CURLoption option, parameter);"
 *   https://curl.se/libcurl/c/curl_easy_setopt.html
 */
static inline CURLcode dd_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode dd_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode dd_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode dd_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode dd_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*dd_data_callback)(char *buffer, size_t size, size_t nitems, void *userdata);
static inline CURLcode dd_setopt_data_callback(CURL *handle, CURLoption option, dd_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

/* "CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ... );"
 *   https://curl.se/libcurl/c/curl_easy_getinfo.html */
static inline CURLcode dd_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode dd_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode dd_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
