; A tiny NSIS installer for bingate's installer recognition (corpus/recipes/build-installers.sh):
; a solid LZMA payload with a text file and an unsigned DLL.
Unicode true
SetCompressor /SOLID lzma
SetDatablockOptimize on
Name "bingate test installer"
OutFile "nsis-hello.exe"
RequestExecutionLevel user
InstallDir "$TEMP\bingate-test"
Section
  SetOutPath "$INSTDIR"
  File "hello.txt"
  File "helper.dll"
SectionEnd
