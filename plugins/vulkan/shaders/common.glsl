// common.glsl - what every cmeter Vulkan shader shares: buffers reached through buffer device
// addresses (GL_EXT_buffer_reference, Vulkan 1.2 bufferDeviceAddress) passed in push constants, so no
// descriptor set is bound and no storage-buffer range limit applies. Element indices are 32-bit (the
// plugin checks the sizes). Push constants are std430; the plugin's C structs mirror them.
#extension GL_EXT_buffer_reference : require
