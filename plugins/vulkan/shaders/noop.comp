#version 460
// noop.comp - noop.v1: the smallest dispatch (one invocation that does nothing).
layout(local_size_x = 1) in;
void main() {}
