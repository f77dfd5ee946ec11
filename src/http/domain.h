/*
 * domain.h - the HTTP API's endpoints that change or fetch things through
 * the domain API (vhost.h, publish.c): declare and delete queues and
 * exchanges, purge, get, publish, bind and unbind, the aliveness test and
 * the definitions (domain.c).  api.c lists them in its route table.
 */
#ifndef WARREN_HTTP_DOMAIN_H
#define WARREN_HTTP_DOMAIN_H

#include "http/api.h"

http_handler http_put_queue, http_delete_queue, http_purge_queue, http_get_messages;
http_handler http_put_exchange, http_delete_exchange, http_publish_message;
http_handler http_post_binding_queue, http_post_binding_exchange, http_delete_binding_queue, http_delete_binding_exchange;
http_handler http_get_aliveness;
http_handler http_get_definitions, http_post_definitions, http_get_vhost_definitions, http_post_vhost_definitions;

#endif
