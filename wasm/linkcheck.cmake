# Fails if the static library LIB (shared/'s mdl) needs a libc symbol that
# shared/ must not use (STYLE section 7): heap, files, stdio, threads, clocks,
# rand. Memory comes only through mdl_alloc. Writes STAMP on success.
# Usage: cmake -DLIB=libmdl.a -DNM=nm -DSTAMP=file -P linkcheck.cmake
execute_process(COMMAND ${NM} -u ${LIB} OUTPUT_VARIABLE undefined RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "linkcheck: ${NM} -u ${LIB} failed")
endif()
string(REGEX MATCHALL
  "[ \t]U (malloc|calloc|realloc|free|aligned_alloc|posix_memalign|f?open|fopen64|fclose|fread|fwrite|printf|fprintf|puts|time|clock_gettime|gettimeofday|rand|srand|pthread_[A-Za-z0-9_]*)\n"
  bad "${undefined}\n")
if(bad)
  string(REPLACE "\n" "" bad "${bad}")
  message(FATAL_ERROR "linkcheck: shared/ (${LIB}) uses forbidden symbols:${bad}")
endif()
file(WRITE ${STAMP} "ok\n")
