/*
 * redrive_api.h - the HTTP API's redrive endpoints (redrive_api.c): start, watch
 * and cancel a move of a queue's messages (the domain's redrive.h).
 */
#ifndef WARREN_HTTP_REDRIVE_API_H
#define WARREN_HTTP_REDRIVE_API_H

#include "http/api.h"

http_handler http_post_redrive, http_get_redrive, http_delete_redrive;

#endif
