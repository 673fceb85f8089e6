# Writes a C++ source that holds the bytes of one file, so the binary serves it without reading
# the file at run time. Run as a script at build time (add_custom_command):
#   cmake -DINPUT=<file> -DOUTPUT=<file.cc> -DNAMESPACE=<ns> -DSYMBOL=<name> -P embed_file.cmake
# The source defines, in namespace NAMESPACE:
#   extern const unsigned char SYMBOL[];   the file's bytes (not NUL-terminated)
#   extern const std::size_t SYMBOL_size;  how many there are
# and the code that uses them declares the same two names. An empty or missing INPUT is an error.
foreach(argument INPUT OUTPUT NAMESPACE SYMBOL)
  if(NOT DEFINED ${argument})
    message(FATAL_ERROR "embed_file.cmake: -D${argument}=... is required")
  endif()
endforeach()

file(SIZE "${INPUT}" size)
if(size EQUAL 0)
  message(FATAL_ERROR "embed_file.cmake: ${INPUT} is empty")
endif()
file(READ "${INPUT}" hex HEX)
# "2f2f0a..." -> "0x2f,0x2f,0x0a,...", 16 bytes a line.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REPEAT "0x[0-9a-f][0-9a-f]," 16 sixteen_bytes)  # CMake's regular expressions have no {16}
string(REGEX REPLACE "(${sixteen_bytes})" "\\1\n    " bytes "${bytes}")
file(RELATIVE_PATH input_name "${CMAKE_CURRENT_LIST_DIR}/.." "${INPUT}")

file(WRITE "${OUTPUT}.tmp" "\
// Generated at build time by cmake/embed_file.cmake from ${input_name}: do not edit.
#include <cstddef>

namespace ${NAMESPACE} {

extern const unsigned char ${SYMBOL}[] = {
    ${bytes}
};
extern const std::size_t ${SYMBOL}_size = ${size};

}  // namespace ${NAMESPACE}
")
# Only a changed source is recompiled.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
