/*
 * domain.h - the HTTP API's endpoints that change or fetch things through
 * the domain API (vhost.h, publish.c): declare and delete queues and
 * exchanges, purge, get, publish, bind and unbind, the aliveness test and
 * the definitions (domain.c).  api.c lists them in its route table.
 */
#ifndef WARREN_HTTP_DOMAIN_H
#define WARREN_HTTP_DOMAIN_H

#include "http/api.h"

http_handler put_queue, delete_queue, purge_queue, get_messages;
http_handler put_exchange, delete_exchange, publish_message;
http_handler post_binding_queue, post_binding_exchange, delete_binding_queue, delete_binding_exchange;
http_handler get_aliveness;
http_handler get_definitions, post_definitions, get_vhost_definitions, post_vhost_definitions;

#endif
