#version 460
// copy.comp - copy.v1 with engine = kernel: the compute units copy `words` 16-byte words, grid-stride
// (the plugin copies a tail of under 16 bytes with vkCmdCopyBuffer and says so in `impl`).
#include "common.glsl"
layout(local_size_x = 256) in;
layout(buffer_reference, std430) buffer Words { uvec4 v[]; };
layout(push_constant, std430) uniform Push {
  Words src;
  Words dst;
  uint words;
} p;
void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.words; i += stride) p.dst.v[i] = p.src.v[i];
}
