// The one definition of Asio's, Asio SSL's and Beast's compiled parts.
//
// herd_places defines BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION
// for everything that links it, so their headers only declare; compiling the bodies once
// here keeps every other networking file quicker to build.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
