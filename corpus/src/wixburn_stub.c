/* A stand-in for a WiX Burn engine: only its .wixburn section matters to bingate. The section
   holds Burn's bundle header (wix src/burn/stub/StubSection.cpp): magic 0x00F14300, version 2,
   the bundle id, the stub size and the attached containers' sizes, which
   recipes/build-installers.sh fills in after linking. */
struct burn_section {
    unsigned int magic, version;
    unsigned char bundle_id[16];
    unsigned int stub_size, original_checksum, original_signature_offset,
        original_signature_size, container_format, container_count, container_sizes[116];
};

__attribute__((section(".wixburn"), used)) const struct burn_section burn = {
    0x00F14300u, 2u, {0}, 0u, 0u, 0u, 0u, 1u, 1u, {0}};

int main(void) { return 0; }
