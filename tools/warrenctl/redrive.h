/* warrenctl's redrive verb (redrive.c): move a queue's messages to the
 * queues their x-death names, or to one queue, through warren's
 * POST /api/queues/{vhost}/{queue}/redrive, and wait for the end. */
#ifndef WARRENCTL_REDRIVE_H
#define WARRENCTL_REDRIVE_H

typedef struct ctl_redrive_req {
    const char *vhost, *queue;
    const char *to;             /* NULL: each message's x-death queue */
    long count;                 /* 0: every ready message */
    long rate;                  /* messages a second; 0: unlimited */
} ctl_redrive_req;

/* Starts the redrive, polls it until it ends, prints the outcome; exits
 * on failure (65 no such queue or a message that could not be moved,
 * 69 a broker without the endpoint, 70 cancelled). */
void ctl_redrive(const ctl_redrive_req *req);

#endif
